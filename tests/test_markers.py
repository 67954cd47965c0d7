"""The db marker: set on every test that uses the test database, and enforced on every other."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from intake.db import make_engine
from tests import conftest


def test_a_test_on_the_app_fixture_is_marked_db(
    request: pytest.FixtureRequest, client: FlaskClient
) -> None:
    assert request.node.get_closest_marker("db") is not None  # client needs app: marked


def test_a_test_without_the_app_fixture_is_not_marked(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("db") is None


def test_an_unmarked_test_that_opens_a_connection_fails(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with pytest.raises(AssertionError, match="without the db marker"):
            engine.connect()
    finally:
        engine.dispose()
    # Recorded too, so that code which swallows the error (``/healthz`` does) still fails the
    # test at teardown; popped here, or this test would fail.
    assert conftest._UNMARKED.pop(request.node.nodeid) == [f"sqlite:///{tmp_path / 'x.sqlite3'}"]


@pytest.mark.own_database
def test_a_test_marked_own_database_may_open_its_own(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()
