"""HAP: HAProxy rules (the loader is advisor/loaders/haproxy_cfg.py)."""
