import pytest

from reasonops_runtime.store import Store


@pytest.fixture
async def store(database_url):
    """The kit's tables on SQLite and on PostgreSQL (see the root ``database_url``)."""
    store = Store(database_url)
    await store.create_all()
    yield store
    await store.close()
