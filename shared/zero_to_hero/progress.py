"""The one progress line every training loop prints, so all packages read alike.

    progress_line(500, 2000, loss=1.2345, lr=2e-3, seconds_per_step=0.0312, rate=25000)
    -> "step 500/2000 | loss 1.2345 | lr 2.00e-03 | 31.2 ms/step | 25,000 tokens/s | ETA 47s"

`values` keep their order; floats get 4 decimals (a learning rate: 2 significant digits in e-notation),
anything else is printed as given. Without a `total` (a run until Ctrl-C) there is no ETA.
"""


def format_duration(seconds: float) -> str:
    """42s, 3m 05s, 2h 04m: seconds rounded, the two largest units that matter."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _format_value(name: str, value) -> str:
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.2e}" if name == "lr" else f"{value:.4f}"
    return str(value)


def progress_line(
    step: int, total: int | None, *, seconds_per_step: float, rate: float | None = None, unit: str = "tokens", **values
) -> str:
    """`step` of `total` done (`total` None: open-ended), `seconds_per_step` measured over recent steps, `rate`
    in `unit`s per second, then an ETA for the remaining `total - step` steps at the same pace."""
    parts = [f"step {step}/{total}" if total is not None else f"step {step}"]
    parts += [f"{name} {_format_value(name, value)}" for name, value in values.items()]
    parts.append(f"{seconds_per_step * 1000:.1f} ms/step")
    if rate is not None:
        parts.append(f"{rate:,.0f} {unit}/s")
    if total is not None:
        parts.append(f"ETA {format_duration(max(total - step, 0) * seconds_per_step)}")
    return " | ".join(parts)
