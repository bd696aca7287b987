"""Open data (公开): a cycle's public record as a ZIP of CSV and JSON, and the Atom feed."""
