"""The administrator's domain: validated configuration changes with an audit trail, holiday
import, reports, the live board and staffing. No Flask here; the web console and the CLI
call these functions and turn `ConfigError` into a 400 naming the field."""
