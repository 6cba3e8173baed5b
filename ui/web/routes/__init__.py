"""The console's pages and their APIs, one module each in this package, each giving a FastAPI
``router``; :func:`routers` includes every module here (a new page is a new module)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    out: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if not isinstance(router, APIRouter):
            raise TypeError(f"{module.__name__} has no FastAPI router named 'router'")
        out.append(router)
    return out
