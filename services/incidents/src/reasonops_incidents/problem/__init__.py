"""Problems: a correlation group that keeps recurring, with its state and workaround."""
