"""The agent console: a server-rendered page with small plain JS over the /api endpoints.

`console.desk` is the domain side (no Flask): what an agent sees and may do.
`console.views` is the Flask blueprint serving the page.
"""
