"""Educational articles: index and article pages, authors and topics. Built in its own issue."""
