"""
What the production image does, without Docker: its instructions are read from the
Dockerfile, its build context from `.dockerignore`, its environment from `.env.example`, so
the tests run the very commands the image runs.
"""

import fnmatch
import json
import os
import secrets
import shutil
import subprocess
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dockerfile_values(keyword):
    return [arguments for name, arguments in dockerfile_instructions() if name == keyword]


def dockerfile_exec_form(keyword):
    """The JSON (exec) form of ENTRYPOINT, CMD or HEALTHCHECK ... CMD."""
    (arguments,) = dockerfile_values(keyword)
    if keyword == "HEALTHCHECK":
        arguments = arguments.partition(" CMD ")[2]
    return json.loads(arguments)


def dockerfile_env():
    env = {}
    for arguments in dockerfile_values("ENV"):
        for pair in arguments.split():
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def in_image(argv, image_root):
    """`argv` with the image's WORKDIR replaced by where the build context was copied."""
    (workdir,) = dockerfile_values("WORKDIR")
    prefix = workdir.rstrip("/") + "/"
    return [
        str(image_root / arg.removeprefix(prefix)) if arg.startswith(prefix) else arg
        for arg in argv
    ]


def dockerignore_patterns():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_dockerignored(relative_path, patterns):
    """Docker matches each pattern against the path and each of its parents."""
    parts = relative_path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    expanded = [p for pattern in patterns for p in (pattern, pattern.removeprefix("**/"))]
    return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in expanded)


def copy_build_context(destination):
    """Copies what `COPY . .` would put in the image (the context less `.dockerignore`)."""
    patterns = dockerignore_patterns()
    for directory, subdirectories, files in os.walk(ROOT):
        relative_dir = Path(directory).relative_to(ROOT)
        subdirectories[:] = [
            d
            for d in subdirectories
            if not is_dockerignored((relative_dir / d).as_posix(), patterns)
        ]
        for name in files:
            relative = (relative_dir / name).as_posix()
            if not is_dockerignored(relative, patterns):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / relative, target)


def example_env():
    """The uncommented `NAME=value` lines of `.env.example`."""
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def production_env(**overrides):
    """
    A clean process environment: the image's ENV, the documented production settings of
    `.env.example` and a fresh secret key; an override of None removes a variable.
    """
    env = {
        "PATH": f"{sysconfig.get_path('scripts')}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        **dockerfile_env(),
        **example_env(),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def run(argv, env, cwd=ROOT, timeout=60):
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
