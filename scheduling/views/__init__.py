"""views of beds and scheduling, one module per area."""
