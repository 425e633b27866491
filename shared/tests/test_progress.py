import pytest

from zero_to_hero.progress import format_duration, progress_line


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (0.4, "0s"), (42.4, "42s"), (59.6, "1m 00s"), (185, "3m 05s"), (3599, "59m 59s"), (7440, "2h 04m"),
     (-3, "0s")],
)  # fmt: skip
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_the_documented_line():
    line = progress_line(500, 2000, loss=1.2345, lr=2e-3, seconds_per_step=0.0312, rate=25000)
    assert line == "step 500/2000 | loss 1.2345 | lr 2.00e-03 | 31.2 ms/step | 25,000 tokens/s | ETA 47s"


def test_eta_is_the_remaining_steps_at_the_measured_pace():
    line = progress_line(100, 1100, seconds_per_step=0.25)  # 1000 steps left, 250 s
    assert line == "step 100/1100 | 250.0 ms/step | ETA 4m 10s"
    assert progress_line(1100, 1100, seconds_per_step=0.25).endswith("ETA 0s")


def test_open_ended_run_has_no_eta_and_values_keep_their_order():
    line = progress_line(
        7, None, seconds_per_step=1.5, rate=12.3, unit="examples", mfu="12.5%", loss=2.0, tokens=1234, done=True
    )
    assert line == "step 7 | mfu 12.5% | loss 2.0000 | tokens 1234 | done True | 1500.0 ms/step | 12 examples/s"
