"""Pages of the core app, one module per area: pages (home, health), auth (sign-in, TOTP), audit."""
