"""makemore: character-level language models of names (lectures 2-5), all on one data pipeline (makemore.data).

makemore.zoo is the original makemore's model zoo behind `python -m makemore`, with names of its own.
"""
