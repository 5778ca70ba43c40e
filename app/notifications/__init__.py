"""Notifications (通知): the in-app inbox and text messages for the few events a
villager must not miss."""
