-- the role's own statement_timeout is the one in force: the fix names this line
ALTER ROLE shop_app SET statement_timeout = '15min';
ALTER ROLE shop_app SET lock_timeout = '10s';
