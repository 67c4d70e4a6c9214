"""Find and install the system libraries Qt needs, for `make run` and `make test`.

Run with the project's virtual-environment Python after PySide6 is installed:

    python tools/sysdeps.py offscreen   # what headless tests need
    python tools/sysdeps.py xcb         # what a real window on X11 needs

It asks the dynamic linker (``ldd``) which shared libraries the Qt platform plugin
and the Qt libraries it loads cannot find, maps each to its Debian/Ubuntu package
and, when running as root with apt-get, installs them. Otherwise it prints the
exact apt-get line to run and exits with status 1. It never imports Qt itself,
because a missing library would make that import fail with a cryptic message.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

# soname -> Debian package. Ubuntu 24.04 renamed a few with a "t64" suffix; install()
# falls back to that spelling when the plain name is unknown to apt.
PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpng16.so.16": "libpng16-16",
    "libz.so.1": "zlib1g",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
}
# Loaded at run time rather than linked, so ldd cannot see them: a font, so text is drawn.
ALWAYS = {"offscreen": ["fonts-dejavu-core"], "xcb": ["fonts-dejavu-core"]}


def qt_dir() -> Path:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        sys.exit("sysdeps: PySide6 is not installed in this Python; run `make install` first.")
    return Path(spec.origin).parent / "Qt"


def missing_libraries(platform: str) -> list[str]:
    qt = qt_dir()
    files = [qt / "plugins" / "platforms" / f"libq{platform}.so"]
    # The Qt libraries the app loads; others in the wheel (Wayland, ...) are never opened.
    libs = ["Core", "Gui", "Widgets", "DBus", "OpenGL", "OpenGLWidgets", "Svg"]
    if platform == "xcb":
        libs.append("XcbQpa")
    files += [qt / "lib" / f"libQt6{name}.so.6" for name in libs]
    missing: set[str] = set()
    for f in files:
        if not f.exists():
            continue
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "not found" in line:
                soname = line.split("=>")[0].strip()
                if not soname.startswith("libQt6"):
                    missing.add(soname)
    return sorted(missing)


def missing_packages(names: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    out = []
    for name in names:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if "install ok installed" not in res.stdout:
            res64 = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name + "t64"], capture_output=True, text=True)
            if "install ok installed" not in res64.stdout:
                out.append(name)
    return out


def apt_name(pkg: str) -> str:
    known = subprocess.run(["apt-cache", "show", pkg], capture_output=True).returncode == 0
    return pkg if known or not shutil.which("apt-cache") else pkg + "t64"


def main(argv: list[str]) -> int:
    platform = argv[1] if len(argv) > 1 else "offscreen"
    if platform not in ALWAYS:
        sys.exit(f"sysdeps: unknown platform {platform!r}; use 'offscreen' or 'xcb'.")
    libs = missing_libraries(platform)
    unknown = [lib for lib in libs if lib not in PACKAGES]
    pkgs = sorted({PACKAGES[lib] for lib in libs if lib in PACKAGES} | set(missing_packages(ALWAYS[platform])))
    if unknown:
        print(f"sysdeps: Qt needs libraries this script has no package for: {', '.join(unknown)}", file=sys.stderr)
    if not pkgs:
        return 1 if unknown else 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"sysdeps: installing the system libraries Qt ({platform}) needs: {' '.join(pkgs)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env)
        names = [apt_name(p) for p in pkgs]
        res = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *names], env=env)
        if res.returncode != 0:
            print("sysdeps: apt-get failed; see its message above.", file=sys.stderr)
            return 1
        still = missing_libraries(platform)
        if still:
            print(f"sysdeps: still missing after install: {', '.join(still)}", file=sys.stderr)
            return 1
        return 0
    print(
        f"sysdeps: Qt's {platform} platform needs system libraries that are not installed.\n"
        f"Run this as root, then try again:\n\n    sudo apt-get install -y {' '.join(pkgs)}\n",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
