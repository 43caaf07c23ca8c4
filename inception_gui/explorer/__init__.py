"""The Explorer tab: the network block by block, with shapes, parameters and mult-adds."""
