"""The Train tab: fine-tune the network on a folder with one sub-folder per class."""
