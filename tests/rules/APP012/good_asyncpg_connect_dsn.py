# asyncpg.connect() reads sslmode and sslrootcert from its DSN; application_name is a PostgreSQL setting it sends
import asyncpg


async def main():
    return await asyncpg.connect(
        "postgresql://orders@pg.internal:5432/orders?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=api",
        timeout=10,
    )
