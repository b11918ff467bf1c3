/*
  oxy:
    database: shop
*/
-- Units sold per product, best sellers first. Try: oxy run queries/top_products.sql -v limit=3
select p.name, sum(o.quantity) as units, round(sum(o.quantity * p.price), 2) as revenue
from orders o
join products p using (product_id)
group by p.name
order by units desc
limit {{ limit | default(5) }}
