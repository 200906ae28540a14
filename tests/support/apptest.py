"""Helpers for driving the dashboard under Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def record_downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, Callable]]:
    """(file name, callable) of every download button the app renders from now on.

    Streamlit keeps a callable per deferred download and runs it when the button is clicked;
    a test calls it as a click would and reads the bytes a viewer would get."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: list[tuple[str | None, Callable]] = []
    original = MediaFileManager.add_deferred

    def keep(self, data_callable, *args, **kwargs):
        made.append((kwargs.get("file_name"), data_callable))
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return made
