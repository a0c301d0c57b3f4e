"""The built layer's unzipped size (``.aws-sam/build/SharedLayer``, from ``make build``) against the 25 MB goal,
with its largest packages: what Lambda unpacks into /opt at every cold start."""

from __future__ import annotations

from pathlib import Path

from bench.run import Row

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / ".aws-sam" / "build" / "SharedLayer"
GOAL_MB = 25
MB = 1024 * 1024


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def rows() -> list[Row]:
    if not LAYER.is_dir():
        return [Row("layer size (unzipped)", "run make build", f"{GOAL_MB} MB")]
    total = _size(LAYER)
    packages = LAYER / "python"
    parts = sorted(((_size(p), p.name) for p in packages.iterdir() if not p.name.endswith(".dist-info")), reverse=True)
    largest = ", ".join(f"{name} {size / MB:.1f}" for size, name in parts[:4])
    return [
        Row(
            "layer size (unzipped)",
            f"{total / MB:.1f} MB",
            f"{GOAL_MB} MB",
            f"{total / MB / GOAL_MB:.2f}x",
            f"goal <= {GOAL_MB} MB; largest (MB): {largest}",
        )
    ]
