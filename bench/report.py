"""How every bench prints: each figure on a line next to its target with PASS or FAIL, and the
list of what was missed at the end. One place, so that bench/run.py and bench/load.py read alike
and a reader learns one format."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    name: str
    figure: str
    target: str = ""
    ok: bool | None = None  # None: information only
    #: Column widths of the figure and the target (a load figure says more than a render's).
    widths: tuple[int, int] = (34, 26)

    def __str__(self) -> str:
        verdict = "" if self.ok is None else ("PASS" if self.ok else "FAIL")
        target = f"target {self.target}" if self.target else ""
        figure_width, target_width = self.widths
        return f"  {self.name:<34} {self.figure:<{figure_width}} {target:<{target_width}} {verdict}".rstrip()


@dataclass
class Report:
    """The lines one bench run printed, in order."""

    widths: tuple[int, int] = (34, 26)
    lines: list[Line] = field(default_factory=list)

    def emit(self, name: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        line = Line(name, figure, target, ok, self.widths)
        self.lines.append(line)
        print(line, flush=True)

    @staticmethod
    def heading(text: str) -> None:
        print(f"\n{text}", flush=True)

    def failures(self) -> list[str]:
        """The names of the figures that missed their target."""
        return [line.name for line in self.lines if line.ok is False]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (any number of samples; 0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]
