"""The orchestrator's set of tables, with its own revisions (``revisions/``)."""

from sqlalchemy import MetaData

from reasonops_runtime.migrations import schema

metadata = MetaData(info=schema("orchestrator", "reasonops_orchestrator:revisions"))
