ALTER ROLE crm_app SET idle_session_timeout = '10min';
