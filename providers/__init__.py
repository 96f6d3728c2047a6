"""providers: provider data, reference data, import/export, storage and demo data."""
