"""The embedded DANA sandbox: a faithful, stateful emulator of DANA's Widget sandbox."""
