# psycopg (libpq) reads this URL: sslmode=require encrypts and does not verify the server certificate
import psycopg

conn = psycopg.connect("postgresql://app@db.internal:5432/app?sslmode=require")
