"""Live queues, agent presence, routing, wait estimates and staffing maths (no Flask)."""
