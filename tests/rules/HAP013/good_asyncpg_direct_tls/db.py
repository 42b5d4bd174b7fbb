import asyncpg


async def connect():
    # asyncpg starts TLS at once (no SSLRequest); it offers ALPN postgresql but does not require it
    return await asyncpg.connect("postgresql://partner_ro@10.30.0.5:5443/warehouse", ssl="require", direct_tls=True)
