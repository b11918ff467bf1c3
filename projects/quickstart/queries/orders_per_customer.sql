/*
  oxy:
    database: shop
*/
-- Orders per customer, most first. Try: oxy run queries/orders_per_customer.sql
SELECT customer, COUNT(*) AS orders FROM orders GROUP BY customer ORDER BY orders DESC
