"""What every tab shares: the job hub, the model session, drop and paste, pictures, resources."""
