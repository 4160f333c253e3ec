# Shared by the scripts that run a gateway cluster (gateway-cluster.sh, bench-gateways.sh,
# e2e/gateways-target.sh): the [cluster] section of a gateway's file. Source it.

# cluster_toml NAME GATEWAY CEPH_CONF GATEWAYS [LINE]...: the [cluster] section of
# gateway GATEWAY in cluster NAME (state in pool rbd) and its [[cluster.gateways]]: the
# space-separated GATEWAYS, the Nth with target port group N; each LINE (key = value)
# goes into [cluster].
cluster_toml() {
    local name=$1 gateway=$2 conf=$3 gateways=$4 tag=0 each
    shift 4
    printf '[cluster]\nname = "%s"\ngateway = "%s"\nstate_pool = "rbd"\nceph_conf = "%s"\n' "$name" "$gateway" "$conf"
    printf '%s\n' "$@"
    for each in $gateways; do
        tag=$((tag + 1))
        printf '[[cluster.gateways]]\nname = "%s"\nportal_group = %s\n' "$each" "$tag"
    done
}
