"""The files users write: scenario and experiment schemas, constraints, designs, dotted paths
and YAML with line numbers. Imports nothing else of the package."""
