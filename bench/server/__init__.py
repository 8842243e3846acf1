"""The node as the load benchmark serves it: the product's settings and URLs, plus one bare
"hello" view as the baseline. Never part of the product's URLs."""
