"""Check the built sdist and wheel the way a user meets them: installed, in a fresh virtualenv.

Usage: ``python .ci/check_dist.py DIST_DIR [DJANGO_REQUIREMENT]`` (``make dist`` runs it
after ``python -m build`` and ``twine check``). It fails when:

- the wheel or the sdist leaves out a file of the package (templates, static files,
  migrations, ``py.typed``: everything under ``django_trackable/`` but bytecode);
- the wheel's name or version is not what ``pyproject.toml`` and ``__version__`` say;
- the wheel, installed with its dependencies into a new virtualenv, cannot be imported
  from outside the source tree, or a minimal project using it fails ``manage.py check``,
  ``makemigrations``, ``migrate`` or its first tracked change.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import venv
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_trackable"

SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "check-dist"
DEBUG = True
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_trackable",
    "shop",
]
MIDDLEWARE = [
    "django_trackable.middleware.VisitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_trackable.middleware.CurrentUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
"""

URLS = """
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
"""

MODELS = """
from django.db import models

from django_trackable.models import SoftDeleteModel, TrackableModel


class Product(SoftDeleteModel, TrackableModel):
    name = models.CharField(max_length=100)
"""

# Run in the installed project: the package is the wheel's, its data files load.
SMOKE = """
import importlib.resources
import sys

import django_trackable
from django.contrib.auth import get_user_model
from django.template.loader import get_template
from django.test import Client

from django_trackable import acting_as
from django_trackable.models import UserVisit
from shop.models import Product

root = importlib.resources.files("django_trackable")
assert str(root).startswith(sys.prefix), f"imported from {root}, not the virtualenv"
assert root.joinpath("py.typed").is_file(), "py.typed is missing"
for name in sys.argv[1:]:
    get_template(name)

admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
with acting_as(admin):
    product = Product.objects.create(name="Lamp")
    product.name = "Desk lamp"
    product.save()
    product.delete()
actions = [entry["action"] for entry in product.history]
assert actions == ["create", "update", "delete"], product.history
client = Client()
client.force_login(admin)
assert client.get("/admin/django_trackable/uservisit/").status_code == 200
assert UserVisit.objects.filter(url="/admin/django_trackable/uservisit/").exists()
print(f"django_trackable {django_trackable.__version__} from {root}: ok")
"""


def step(message: str) -> None:
    print(f"--- {message}", flush=True)


def fail(message: str) -> None:
    print(f"check_dist: {message}", file=sys.stderr)
    raise SystemExit(1)


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(a) for a in args], cwd=cwd, env=env, check=False)
    if completed.returncode:
        fail(f"{' '.join(map(str, args))} exited with {completed.returncode}")


def package_files() -> list[str]:
    """Every file of the package as it should be installed, relative to the repository."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def only(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    if len(found) != 1:
        fail(f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
    return found[0]


def check_contents(wheel: Path, sdist: Path, expected: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    missing = [name for name in expected if name not in names]
    if missing:
        fail(f"{wheel.name} lacks {missing}")
    version = {}
    exec((ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8"), version)
    if (metadata["Name"], metadata["Version"]) != (project["name"], version["__version__"]):
        fail(f"{wheel.name} is {metadata['Name']} {metadata['Version']}")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    wanted = [*expected, "README.md", "LICENSE", "pyproject.toml"]
    missing = [name for name in wanted if name not in in_sdist]
    if missing:
        fail(f"{sdist.name} lacks {missing}")
    print(f"{wheel.name} and {sdist.name}: all {len(expected)} package files, {metadata['Name']}")


def main() -> None:
    dist = Path(sys.argv[1]).resolve()
    django = sys.argv[2] if len(sys.argv) > 2 else "Django"
    wheel, sdist = only(dist, "*.whl"), only(dist, "*.tar.gz")
    expected = package_files()
    templates = [
        name.removeprefix(f"{PACKAGE}/templates/")
        for name in expected
        if name.startswith(f"{PACKAGE}/templates/") and name.endswith((".html", ".txt"))
    ]
    step("contents")
    check_contents(wheel, sdist, expected)
    with tempfile.TemporaryDirectory(prefix="check-dist-") as tmp:
        work = Path(tmp)
        step(f"install {wheel.name} and {django} into a fresh virtualenv")
        venv.create(work / "venv", with_pip=True)
        python = work / "venv" / "bin" / "python"
        run(python, "-m", "pip", "install", "--quiet", str(wheel), django, cwd=work)
        step('python -c "import django_trackable" (outside the source tree)')
        run(python, "-c", "import django_trackable; print(django_trackable.__file__)", cwd=work)
        step("a minimal project: check, makemigrations, migrate, a tracked change")
        project = work / "project"
        (project / "shop" / "migrations").mkdir(parents=True)
        (project / "settings.py").write_text(textwrap.dedent(SETTINGS))
        (project / "urls.py").write_text(textwrap.dedent(URLS))
        (project / "shop" / "__init__.py").write_text("")
        (project / "shop" / "migrations" / "__init__.py").write_text("")
        (project / "shop" / "models.py").write_text(textwrap.dedent(MODELS))
        (project / "smoke.py").write_text(
            "import django\ndjango.setup()\n" + textwrap.dedent(SMOKE)
        )
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}},
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONPATH": str(project),
        }
        admin = (python, "-m", "django")
        run(*admin, "check", "--fail-level", "WARNING", cwd=project, env=env)
        run(*admin, "makemigrations", "shop", cwd=project, env=env)
        run(*admin, "migrate", "--noinput", "-v", "0", cwd=project, env=env)
        run(*admin, "makemigrations", "--check", "--dry-run", cwd=project, env=env)
        run(python, "smoke.py", *templates, cwd=project, env=env)
    step("dist ok")


if __name__ == "__main__":
    main()
