/* SPDX-License-Identifier: BSD-3-Clause */
#include "pmd_sdk.h"

#include <cstring>

namespace spray::pmd {

bool sdk_check(const rte_eth_dev *dev, const char *name) noexcept
{
	if (dev == nullptr || dev->data == nullptr)
		return false;
	const uint16_t port = dev->data->port_id;
	return port < RTE_MAX_ETHPORTS && &rte_eth_devices[port] == dev &&
	       std::strcmp(dev->data->name, name) == 0;
}

void register_vdev(rte_vdev_driver *drv, const char *name) noexcept
{
	drv->driver.name = name;
	drv->driver.alias = nullptr;
	rte_vdev_register(drv);
}

} // namespace spray::pmd
