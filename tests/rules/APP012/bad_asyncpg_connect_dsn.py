# asyncpg.connect() reads its DSN itself: a query key it does not read is sent to the server as a setting
import asyncpg


async def main():
    return await asyncpg.connect(
        "postgresql://orders@pg.internal:5432/orders?sslmode=verify-full&keepalives_idle=60&connect_timeout=10",
        timeout=10,
    )
