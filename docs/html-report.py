"""Redraw docs/html-report.png: the demo world's HTML report at 1280 px, in headless Chromium.

Run from the repository root with the test extras installed (Pillow) and `chromium` on PATH:
    python docs/html-report.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parent / "html-report.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "demo.html", Path(tmp) / "shot.png"
        demo = subprocess.run(
            [sys.executable, "-m", "domwatch", "demo", "--format", "html"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        page.write_text(demo.stdout, encoding="utf-8")
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
             f"--user-data-dir={tmp}/profile", f"--screenshot={shot}",
             "--window-size=1280,2400", page.as_uri()],
            capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        with Image.open(shot) as raw:
            image = raw.convert("RGB")
    # Cut the empty background below the page, and keep the file small for the repository.
    width, height = image.size
    background = image.getpixel((width - 1, height - 1))
    bottom = next(
        (y + 1 for y in range(height - 1, 0, -1)
         if any(image.getpixel((x, y)) != background for x in range(0, width, 4))),
        height,
    )  # fmt: skip
    image = image.crop((0, 0, width, min(height, bottom + 20)))
    palette = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(OUT, optimize=True)
    print(f"{OUT}: {image.size[0]}x{image.size[1]}, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
