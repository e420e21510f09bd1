"""domwatch: warns before a domain's registration or certificate lapses."""

__version__ = "0.1.0"
