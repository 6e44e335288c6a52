"""What the robot-side packages share with the simulator, without MuJoCo: the robot profile, the
scenario world, located bilingual errors, guarded YAML loading and the /cmd_vel message helpers."""
