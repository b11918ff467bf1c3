/*
  oxy:
    database: shop
*/
-- Revenue per product category, highest first.
SELECT category, SUM(quantity * price) AS revenue FROM orders JOIN products USING (product_id) GROUP BY category ORDER BY revenue DESC
