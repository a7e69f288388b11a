"""The gateway: ReasonOps over HTTP for people and programs (REST API with OpenAPI),
authenticated by API tokens, speaking for each caller on the broker."""
