# Test fixture in the shape of the E0 shell config (seeds §1.6): environment variables only.
PHOENIX_LXC_CONFIG_FILE="/usr/local/etc/phoenix_lxc_configs.json"
PHOENIX_ZFS_LXC_POOL="quickOS/lxc-disks"
DEFAULT_LXC_CORES=2
DEFAULT_LXC_MEMORY_MB=2048
DEFAULT_LXC_NETWORK_CONFIG="10.0.0.110/24,10.0.0.1,8.8.8.8"
ROLLBACK_ON_FAILURE=false
DEBUG_MODE=false
