"""makemore: character-level language models of names (lectures 2-5), all on one data pipeline (makemore.data)."""
