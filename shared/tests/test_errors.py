import pytest

from zero_to_hero import UserError, run_main


def test_user_error_exits_2_with_one_line(capsys):
    def main(x):
        raise UserError(f"bad value {x}; use a number")

    with pytest.raises(SystemExit) as e:
        run_main(main, "abc")
    assert e.value.code == 2
    assert capsys.readouterr().err == "error: bad value abc; use a number\n"


def test_other_errors_are_bugs_and_keep_their_traceback():
    def main():
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        run_main(main)
    assert run_main(lambda: 7) == 7
