"""Thin Azure Functions blueprints: parse input, call one service in `shared`, map errors."""
