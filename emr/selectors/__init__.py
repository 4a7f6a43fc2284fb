"""selectors of the EMR app, one module per part of the record."""
