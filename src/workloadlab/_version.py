"""The package's version, in a module of its own: the client (its User-Agent) and the server
(its OpenAPI document) read it without importing the package facade, which reaches every layer."""

__version__ = "0.1.0"
