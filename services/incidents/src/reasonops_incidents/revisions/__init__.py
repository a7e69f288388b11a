"""Schema revisions of the incidents tables (see reasonops_runtime.migrations)."""
