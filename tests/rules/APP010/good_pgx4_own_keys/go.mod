module example.com/orders

go 1.19

require (
	github.com/jackc/pgx/v4 v4.18.1
	github.com/lib/pq v1.10.9 // indirect
)
