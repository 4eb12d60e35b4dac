"""The backoffice shell: its home page and the layout every domain's admin pages share.
Each domain owns its own admin views under /admin/<domain>/ (templates/admin/<domain>/)."""
