#!/usr/bin/env bash
# Lint and format check (ruff, configured in pyproject.toml; its pinned version is the
# `lint` extra there). CI runs this before the tests.
source "$(dirname "$0")/_venv.sh"
ruff_spec="$(python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["lint"][0])')"
pip install -q "$ruff_spec"
ruff check .
ruff format --check .
