"""The wheel works anywhere: built by pip, installed into a fresh virtual
environment, it builds the demo with `pelican content` and PLUGINS = ["polku"].

The fresh environment sees the dependencies already installed here through a
`.pth` line naming this environment's site-packages; a directory named in a
`.pth` file does not have its own `.pth` files read, so the editable install of
Polku here stays invisible and the plugin can only come from the wheel. Pelican
itself is copied in: the wheel puts the plugin into Pelican's namespace
(`pelican/plugins/polku`), and a namespace inside a regular package is found
only beside that package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pelican

from ..conftest import ROOT, bare_environ, copy_site

SOURCES = ("pyproject.toml", "README.md", "tracker", "plugins")


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=240, **kwargs
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the sources (the checkout stays clean)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name,
                source / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w", dist])
    (wheel,) = dist.glob("polku-*.whl")
    return wheel


def fresh_environment(tmp_path: Path) -> tuple[Path, Path]:
    """Return (python, site-packages) of a new venv that sees our dependencies."""
    folder = tmp_path / "env"
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    purelib = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    site_packages = Path(purelib)
    ours = sysconfig.get_paths()["purelib"]
    (site_packages / "dependencies.pth").write_text(ours + "\n")
    shutil.copytree(
        Path(pelican.__file__).parent,
        site_packages / "pelican",
        ignore=shutil.ignore_patterns("__pycache__", "polku"),
    )
    return python, site_packages


def test_the_wheel_builds_the_demo_in_a_fresh_environment(tmp_path):
    wheel = build_wheel(tmp_path)
    python, site_packages = fresh_environment(tmp_path)
    pip = [sys.executable, "-m", "pip", "--python", python]
    run([*pip, "install", "--no-deps", "--no-index", "-q", wheel])

    site = copy_site(tmp_path / "site")
    shutil.rmtree(site / "plugins")  # the plugin can only come from the wheel
    env = bare_environ()
    env.pop("PYTHONPATH", None)
    where = run(
        [
            python,
            "-c",
            "import pelican.plugins.polku as p, tracker; "
            "print(p.__file__); print(tracker.__file__)",
        ],
        cwd=site,
        env=env,
    ).stdout.split()
    assert all(Path(path).is_relative_to(site_packages) for path in where), where

    run(
        [
            python,
            "-m",
            "pelican",
            "content",
            "-s",
            "pelicanconf.py",
            "-e",
            'PLUGINS=["polku"]',
        ],
        cwd=site,
        env=env,
    )
    output = site / "output"
    post = (output / "posts" / "why-no-cookie-banner" / "index.html").read_text()
    assert 'action="/subscribe"' in post and 'name="consent_newsletter"' in post
    assert "/theme/js/polku.min.js" in post
    assert (output / "theme" / "js" / "polku.min.js").stat().st_size > 100
    # The theme has none of the plugin's partials: they came from the wheel.
    assert not (site / "theme" / "templates" / "polku").exists()
    assert (site_packages / "pelican/plugins/polku/templates/polku/forms.html").exists()
    assert (site / "var" / "manifest.json").is_file()
